# Compiler flags shared by every target. Kept in one place so that the
# sanitizer and fuzzing builds differ from the release build by one option.
add_library(prescale_warnings INTERFACE)
target_compile_options(prescale_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)

if(PRESCALE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
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

# Directory holding every subfolder's CMakeLists.txt that exists; lets a
# folder be added without touching its parent.
function(prescale_add_subdirectories parent)
  file(GLOB children RELATIVE ${parent} ${parent}/*)
  list(SORT children)
  foreach(child ${children})
    if(IS_DIRECTORY ${parent}/${child} AND EXISTS ${parent}/${child}/CMakeLists.txt)
      add_subdirectory(${parent}/${child})
    endif()
  endforeach()
endfunction()

# A library made of every .cpp below <folder>/src (recursively), with public
# headers under <folder>/include. Usage:
#   prescale_library(NAME forecast PUBLIC_LIBS ... PRIVATE_LIBS ...)
function(prescale_library)
  cmake_parse_arguments(ARG "" "NAME" "PUBLIC_LIBS;PRIVATE_LIBS;EXCLUDE_REGEX" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp)
  foreach(pattern ${ARG_EXCLUDE_REGEX})
    list(FILTER sources EXCLUDE REGEX "${pattern}")
  endforeach()
  add_library(prescale_${ARG_NAME} ${sources})
  add_library(prescale::${ARG_NAME} ALIAS prescale_${ARG_NAME})
  target_include_directories(prescale_${ARG_NAME} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(prescale_${ARG_NAME} PUBLIC ${ARG_PUBLIC_LIBS} PRIVATE ${ARG_PRIVATE_LIBS} prescale_warnings)
endfunction()
