// Lexical rules for names inside a layer tar (and inside an image archive), shared by
// the extractor and the archive reader. Pure string functions: no filesystem access.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace md::image {

// Docker's rule for a tar entry name: a leading '/' is stripped (the name is rooted at
// the layer), empty and "." components are dropped, ".." removes the previous component.
// A ".." with nothing left to remove would leave the layer: error "path escapes the
// layer". Returns "" for the layer root itself ("/", ".", "./").
Result<std::string> clean_layer_path(std::string_view name);

// Docker's rule for a symlink created at (clean) `link_path`: an absolute target is
// rooted at the layer and always stays inside; a relative target is joined to the
// link's directory and must not climb above the layer root ("a/l -> ../../x" escapes).
bool symlink_target_stays_inside(std::string_view link_path, std::string_view target);

// "a/b/c" → "a/b"; "c" → "".
std::string_view parent_path(std::string_view clean_path);
// "a/b/c" → "c".
std::string_view base_name(std::string_view clean_path);
// Joins two clean paths ("" is the root, on either side).
std::string join_clean(std::string_view dir, std::string_view name);

// Double-quotes a name for an error message, escaping quotes, backslashes and control
// bytes (\xNN), so a hostile entry name cannot inject terminal escapes.
std::string quote(std::string_view s);

}  // namespace md::image
