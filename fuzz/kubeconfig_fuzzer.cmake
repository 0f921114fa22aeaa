prescale_add_fuzzer(NAME kubeconfig SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/kubeconfig_fuzzer.cpp LIBS prescale::config)
