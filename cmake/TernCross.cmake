# Cross-compiling C/C++ sources for aarch64 (TERN_ENABLE_AARCH64_TESTS): the runtime archive of
# aarch64 models (runtime/) and the aarch64 kernel tests (test/cross/).

# tern_cross_compile(<out-var> <object dir> <compiler> <flags> <sources...>): one object per
# source, rebuilt when a header it includes changes (the compiler's depfile).
function(tern_cross_compile out dir compiler flags)
  set(objs)
  separate_arguments(flag_list UNIX_COMMAND "${flags}")
  foreach(src IN LISTS ARGN)
    get_filename_component(stem ${src} NAME_WE)
    set(obj "${dir}/${stem}.o")
    add_custom_command(OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -E make_directory "${dir}"
      COMMAND ${compiler} ${flag_list} -MD -MF ${obj}.d -c ${src} -o ${obj}
      DEPENDS ${src}
      DEPFILE ${obj}.d
      COMMENT "Cross-compiling ${stem} for aarch64")
    list(APPEND objs ${obj})
  endforeach()
  set(${out} ${objs} PARENT_SCOPE)
endfunction()
