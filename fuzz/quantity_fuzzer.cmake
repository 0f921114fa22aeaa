prescale_add_fuzzer(NAME quantity SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/quantity_fuzzer.cpp LIBS prescale::kubernetes_server)
