prescale_add_fuzzer(NAME metrics_request SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/metrics_request_fuzzer.cpp
  LIBS prescale::kubernetes_server nlohmann_json::nlohmann_json)
