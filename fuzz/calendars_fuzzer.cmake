prescale_add_fuzzer(NAME calendars SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/calendars_fuzzer.cpp LIBS prescale::config)
