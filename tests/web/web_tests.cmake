# The dashboard's browser tests (tests/web/run.mjs, docs/dashboard.md): include()d from
# tests/CMakeLists.txt after MD_TEST_ROOTFS and the md_rootfs fixture are defined.
# Exit code 77 (no root, no chromium, no node_modules: scripts/setup-web.sh) is a skip.
find_program(MD_NODE node)
if(MD_NODE)
  add_test(NAME web.dashboard COMMAND ${MD_NODE} ${CMAKE_SOURCE_DIR}/tests/web/run.mjs)
else()
  add_test(NAME web.dashboard COMMAND sh -c "echo 'SKIP: node is not installed (scripts/setup-web.sh)'; exit 77")
endif()
set_tests_properties(web.dashboard PROPERTIES
  ENVIRONMENT "MD_CLI=${CMAKE_BINARY_DIR}/minidocker;MD_TEST_ROOTFS=${MD_TEST_ROOTFS};MD_WEB_SCREENSHOTS=${CMAKE_BINARY_DIR}/web-screenshots"
  SKIP_RETURN_CODE 77
  LABELS "integration;web"
  RUN_SERIAL TRUE
  FIXTURES_REQUIRED md_rootfs
  TIMEOUT 900)
