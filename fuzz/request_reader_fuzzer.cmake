prescale_add_fuzzer(NAME request_reader SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/request_reader_fuzzer.cpp LIBS prescale::kubernetes_server)
