prescale_add_fuzzer(NAME duration SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/duration_fuzzer.cpp LIBS prescale::config)
