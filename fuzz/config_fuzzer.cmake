prescale_add_fuzzer(NAME config SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/config_fuzzer.cpp LIBS prescale::config)
