#pragma once
// libcurl is loaded on first use (see src/curl_loader.cpp for why). The curl
// functions themselves come from <curl/curl.h>; this header only tells why a
// call failed when libcurl could not be loaded.
#include <optional>
#include <string>

namespace prescale::curl_loader {

/// The soname opened, e.g. "libcurl.so.4".
const char* library_name();

/// Loads libcurl now if it is not loaded yet. Empty when it is usable,
/// otherwise why not ("libcurl.so.4: cannot open shared object file ...").
/// Thread-safe; the first call does the loading.
std::optional<std::string> load_error();

}  // namespace prescale::curl_loader
