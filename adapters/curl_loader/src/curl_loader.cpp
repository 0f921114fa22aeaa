// Definitions of the libcurl functions prescale uses, forwarding to the real
// libcurl.so.4 opened with dlopen on the first call. Why: linking libcurl makes
// every start of prescale pay for loading and relocating it and its ~25
// dependencies (measured 6 ms of a 16 ms start), although only the Prometheus
// source and the SubjectAccessReview client make HTTP requests.
//
// When libcurl cannot be loaded, the functions fail the way libcurl itself
// reports failure (NULL handle, CURLE_FAILED_INIT) and load_error() says why.
#include "prescale/curl_loader/curl_loader.hpp"

#include <curl/curl.h>
#include <dlfcn.h>

#include <cstdarg>
#include <mutex>

namespace prescale::curl_loader {
namespace {

// The entry points of the real library, resolved together.
struct Api {
  void* handle = nullptr;
  std::string error;
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_reset) easy_reset = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_easy_escape) easy_escape = nullptr;
  decltype(&::curl_free) free = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
};

template <typename Function>
void resolve(Api& api, Function& slot, const char* name) {
  if (!api.error.empty()) return;
  slot = reinterpret_cast<Function>(::dlsym(api.handle, name));
  if (slot == nullptr) api.error = std::string(library_name()) + " has no " + name;
}

const Api& api() {
  static Api loaded = [] {
    Api a;
    a.handle = ::dlopen(library_name(), RTLD_NOW | RTLD_LOCAL);
    if (a.handle == nullptr) {
      const char* why = ::dlerror();
      a.error = why != nullptr ? why : std::string("cannot load ") + library_name();
      a.error += " (install libcurl4)";
      return a;
    }
    resolve(a, a.global_init, "curl_global_init");
    resolve(a, a.easy_init, "curl_easy_init");
    resolve(a, a.easy_cleanup, "curl_easy_cleanup");
    resolve(a, a.easy_reset, "curl_easy_reset");
    resolve(a, a.easy_setopt, "curl_easy_setopt");
    resolve(a, a.easy_getinfo, "curl_easy_getinfo");
    resolve(a, a.easy_perform, "curl_easy_perform");
    resolve(a, a.easy_strerror, "curl_easy_strerror");
    resolve(a, a.easy_escape, "curl_easy_escape");
    resolve(a, a.free, "curl_free");
    resolve(a, a.slist_append, "curl_slist_append");
    resolve(a, a.slist_free_all, "curl_slist_free_all");
    return a;
  }();
  return loaded;
}

bool usable() {
  return api().error.empty();
}

}  // namespace

const char* library_name() {
  return "libcurl.so.4";
}

std::optional<std::string> load_error() {
  if (usable()) return std::nullopt;
  return api().error;
}

}  // namespace prescale::curl_loader

using prescale::curl_loader::api;
using prescale::curl_loader::usable;

extern "C" {

CURLcode curl_global_init(long flags) {
  return usable() ? api().global_init(flags) : CURLE_FAILED_INIT;
}

CURL* curl_easy_init() {
  return usable() ? api().easy_init() : nullptr;
}

void curl_easy_cleanup(CURL* curl) {
  if (usable() && curl != nullptr) api().easy_cleanup(curl);
}

void curl_easy_reset(CURL* curl) {
  if (usable() && curl != nullptr) api().easy_reset(curl);
}

// libcurl reads exactly one argument after the option, its type given by the
// option's number range (CURLOPTTYPE_*), as its own setopt does.
// The last named parameter is an enum, as in libcurl's own declaration and
// definition, which this one must match. clang warns that an enum may
// undergo promotion; CURLoption's and CURLINFO's underlying types are
// int-sized (checked below), so va_start finds the variadic arguments where
// the caller put them, as libcurl's own va_start on the same parameter does.
static_assert(sizeof(CURLoption) == sizeof(int) && sizeof(CURLINFO) == sizeof(int));
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wvarargs"
#endif
CURLcode curl_easy_setopt(CURL* curl, CURLoption option, ...) {
  if (!usable() || curl == nullptr) return CURLE_FAILED_INIT;
  va_list args;
  va_start(args, option);
  CURLcode result;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    result = api().easy_setopt(curl, option, va_arg(args, long));
  } else if (option < CURLOPTTYPE_OFF_T) {
    // Data and function pointers travel alike on every ABI prescale builds for.
    result = api().easy_setopt(curl, option, va_arg(args, void*));
  } else if (option < CURLOPTTYPE_BLOB) {
    result = api().easy_setopt(curl, option, va_arg(args, curl_off_t));
  } else {
    result = api().easy_setopt(curl, option, va_arg(args, void*));
  }
  va_end(args);
  return result;
}

// Every CURLINFO takes one pointer to the result.
CURLcode curl_easy_getinfo(CURL* curl, CURLINFO info, ...) {
  if (!usable() || curl == nullptr) return CURLE_FAILED_INIT;
  va_list args;
  va_start(args, info);
  void* out = va_arg(args, void*);
  va_end(args);
  return api().easy_getinfo(curl, info, out);
}
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

CURLcode curl_easy_perform(CURL* curl) {
  return usable() && curl != nullptr ? api().easy_perform(curl) : CURLE_FAILED_INIT;
}

const char* curl_easy_strerror(CURLcode code) {
  return usable() ? api().easy_strerror(code) : api().error.c_str();
}

char* curl_easy_escape(CURL* curl, const char* text, int length) {
  return usable() ? api().easy_escape(curl, text, length) : nullptr;
}

void curl_free(void* pointer) {
  if (usable()) api().free(pointer);
}

curl_slist* curl_slist_append(curl_slist* list, const char* text) {
  return usable() ? api().slist_append(list, text) : nullptr;
}

void curl_slist_free_all(curl_slist* list) {
  if (usable()) api().slist_free_all(list);
}

}  // extern "C"
