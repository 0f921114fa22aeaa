prescale_add_fuzzer(NAME prometheus_reply SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/prometheus_reply_fuzzer.cpp
  LIBS prescale::prometheus_source)
