prescale_add_fuzzer(NAME label_selector SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/label_selector_fuzzer.cpp LIBS prescale::kubernetes_server)
