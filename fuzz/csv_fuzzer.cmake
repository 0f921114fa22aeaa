prescale_add_fuzzer(NAME csv SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/csv_fuzzer.cpp LIBS prescale::file_source)
