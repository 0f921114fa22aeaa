prescale_add_fuzzer(NAME trigger_target SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/trigger_target_fuzzer.cpp LIBS prescale::config)
