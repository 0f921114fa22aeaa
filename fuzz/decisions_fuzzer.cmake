prescale_add_fuzzer(NAME decisions SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/decisions_fuzzer.cpp LIBS prescale::autoscaler)
