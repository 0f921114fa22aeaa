# Compiler flags shared by every target. Kept in one place so that the
# sanitizer and fuzzing builds differ from the release build by one option.
add_library(prescale_warnings INTERFACE)
target_compile_options(prescale_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)

if(PRESCALE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # -O1 and line tables, after the build type's -O2 -g (the last one counts):
  # what ASan's documentation suggests, and all a report needs (file:line in
  # every frame; no variables). The sanitizer pass of `make test` compiles the
  # libraries, prescale and the unit suites again: with full debug info at -O2
  # that took 10 of CI's 30 minutes (kalman.cpp 45 -> 28 s of CPU, object
  # 13.7 -> 2.4 MB).
  add_compile_options(-O1 $<IF:$<CXX_COMPILER_ID:Clang>,-gline-tables-only,-g1>)
endif()
if(PRESCALE_FUZZ)
  # Every library a fuzz target links gets coverage feedback and ASan/UBSan
  # checks, not only the target's own file (libFuzzer itself is linked there).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(PRESCALE_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

# A library from its listed sources, with public headers under
# <folder>/include/prescale/<name>/. Usage:
#   prescale_library(NAME forecast SOURCES src/a.cpp src/b.cpp
#                    PUBLIC_LIBS ... PRIVATE_LIBS ...)
# PUBLIC_LIBS are what the public headers include; everything else is PRIVATE.
function(prescale_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  add_library(prescale_${ARG_NAME} ${ARG_SOURCES})
  add_library(prescale::${ARG_NAME} ALIAS prescale_${ARG_NAME})
  target_include_directories(prescale_${ARG_NAME} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(prescale_${ARG_NAME} PUBLIC ${ARG_PUBLIC_LIBS} PRIVATE ${ARG_PRIVATE_LIBS} prescale_warnings)
endfunction()
