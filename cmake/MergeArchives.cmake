# cmake -DAR=<ar> -DOUT=<lib.a> -DINPUTS=<a.a;b.o;...> -P MergeArchives.cmake
# Writes one static archive holding every member of the input archives and every input object
# (an `ar -M` script), so a compiled model links against one file per target.
string(REPLACE "|" ";" INPUTS "${INPUTS}")
file(REMOVE "${OUT}")
set(script "CREATE ${OUT}\n")
foreach(input IN LISTS INPUTS)
  if(input MATCHES "\\.a$")
    string(APPEND script "ADDLIB ${input}\n")
  else()
    string(APPEND script "ADDMOD ${input}\n")
  endif()
endforeach()
string(APPEND script "SAVE\nEND\n")
file(WRITE "${OUT}.mri" "${script}")
execute_process(COMMAND "${AR}" -M INPUT_FILE "${OUT}.mri" RESULT_VARIABLE status
                ERROR_VARIABLE error)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "merging ${OUT} failed: ${error}")
endif()
