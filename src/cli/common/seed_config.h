// Container templates: the seeds' YAML/JSON container definitions (docs/templates.md).
//
//   name: web
//   image: busybox
//   command: httpd -f -p 8080 -h /www
//   mem_limit_mb: 64
//   cpu_limit_percent: 50
//   ports: ["8080:8080"]
//   volumes: ["./www:/www:ro"]
//   env_vars: {MODE: production}
//   restart_policy: on-failure:3
//   health_check: {command: "wget -q -O /dev/null http://127.0.0.1:8080/", interval: 30s,
//                  timeout: 5s, retries: 3, start_period: 2s}
//
// They are read for `minidocker run|create --config FILE` (flags given on the command line
// win, the template fills the rest) and written by `minidocker container export-config`.
// A template maps onto Docker's ContainerCreate body; the inverse reads `docker inspect`'s
// JSON, so template → container → template gives the same template back.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace md::cli {

struct RunArgs;  // cli/common/run_flags.h

struct SeedTemplate {
  std::string name;
  std::string image;
  // As a shell would read it; see seed_command_argv(). A YAML list is stored shell-quoted.
  std::string command;
  int64_t mem_limit_mb = 0;       // 0: no limit
  double cpu_limit_percent = 0;   // 100 = one CPU; 0: no limit
  std::vector<std::string> ports;    // canonical "[IP:]HOST:CONTAINER[/udp|sctp]" or "CONTAINER"
  std::vector<std::string> volumes;  // "HOST:CONTAINER[:MODE]" as written (relative HOST kept)
  std::vector<std::pair<std::string, std::string>> env_vars;  // in the file's order
  std::string restart_policy;  // "", "always", "on-failure", "on-failure:N", "unless-stopped"
  struct Health {
    std::string command;
    std::string interval, timeout;  // canonical Go durations ("30s", "1m30s"); "" = default
    int retries = 0;                // 0 = default
    std::string start_period;
    bool exec_form = false;  // given as a YAML list: Test ["CMD", …] instead of ["CMD-SHELL", …]
    bool disabled = false;   // `health_check: none`: Test ["NONE"], turns off the image's check
    bool operator==(const Health&) const = default;
  } health;
  bool has_health = false;
  std::string exported_at;
  bool operator==(const SeedTemplate&) const = default;
};

struct SeedParseOptions {
  std::string source = "template";  // error prefix: "template: …", or the file's path
  int host_cpus = 0;                // cpu_limit_percent's ceiling is 100 × this; 0 = this host's
};

// YAML (JSON too: it is read with a JSON parser when it starts with '{', which keeps the key
// order and gives JSON's error positions). Every field's type and value is checked; errors name
// the field and the value: `template: mem_limit_mb: expected a number, got "lots"`. Unknown
// fields are errors (with a "did you mean" when close), except `description`, which is ignored.
// Values are normalized: ports canonical, durations canonical, restart_policy "no" → "",
// command and health command trimmed.
Result<SeedTemplate> parse_seed_template(const std::string& text, const SeedParseOptions& opts = {});
// Reads and parses a file; errors start with "template PATH: ".
Result<SeedTemplate> load_seed_template(const std::string& path, int host_cpus = 0);

// The command's argv as Docker's Cmd: the words a POSIX shell would split it into, when that
// is all the shell would do (quotes and backslashes are honoured, no shell is needed in the
// image); ["/bin/sh", "-c", command] when it uses anything only a shell can do: | & ; < > ( )
// $ ` globs (* ? [), a newline, a leading # or ~, VAR=value prefixes, reserved words.
// Empty command → empty argv. Error: an unterminated quote.
Result<std::vector<std::string>> seed_command_argv(const std::string& command);
// The inverse: argv joined, each word single-quoted when needed, such that
// seed_command_argv(seed_quote_argv(v)) == v for every v (without a shell).
std::string seed_quote_argv(const std::vector<std::string>& argv);

// Template → ContainerCreate body: Image, Cmd, Env, ExposedPorts, Healthcheck, HostConfig
// {Memory, NanoCpus, PortBindings, Binds, RestartPolicy}. Only fields the template sets appear
// (HostConfig is always an object). Relative volume sources ("./data", "../x", "data/sub")
// become absolute against `base_dir` (the template file's directory; "" = the current
// directory); a bare name ("data") is a named volume, as in Docker and Compose.
// The template must come from parse_seed_template (its values are assumed valid).
nlohmann::json seed_template_to_create_body(const SeedTemplate& t, const std::string& base_dir);

// `run --config FILE`: loads ra.config_file and fills ra.body with the template's fields where
// the command line left them unset, and ra.name when it is empty. Given on the command line
// (present, non-null, non-empty, non-zero in ra.body) wins; per field:
//   Image, Cmd                  the user's whole value
//   Env                         merged by variable name (the user's -e wins)
//   ExposedPorts, PortBindings  merged by container port (the user's -p wins)
//   Binds                       merged by container path (the user's -v wins)
//   Healthcheck                 field by field (--health-interval alone keeps the template's test)
//   Memory, NanoCpus, RestartPolicy   the user's when set; NanoCpus is skipped when the user
//                               set --cpu-quota/--cpu-period (Docker refuses both)
// Relative volume sources are resolved against the template file's directory.
Status apply_seed_config(RunArgs& ra);

// `docker inspect` JSON of a container → template. `image_config` (optional: the image's
// inspect JSON, its "Config"/"config" object, or that object itself) lets what the image
// supplies (its default Cmd, Env entries, Healthcheck) be left out, so the template holds
// only what the container was created with. Memory is rounded up to whole MiB; ports come
// sorted by container port; exported_at is left for the caller to set.
SeedTemplate seed_template_from_inspect(const nlohmann::json& inspect,
                                        const nlohmann::json& image_config = nullptr);

// The seeds' layout, keys in the order name, image, command, mem_limit_mb, cpu_limit_percent,
// ports, volumes, env_vars, restart_policy, health_check, exported_at; unset fields left out.
// Strings are quoted when YAML (1.1 or 1.2) could read them as anything but that string.
std::string seed_template_to_yaml(const SeedTemplate& t);
// The same keys and order as JSON, 2-space indent, ending in a newline.
std::string seed_template_to_json(const SeedTemplate& t);

}  // namespace md::cli
