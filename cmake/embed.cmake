# reckon_embed(OUT_VAR SYMBOL FILE): compiles FILE's text into a C++ symbol
#   `extern const std::string_view SYMBOL;` so the binary needs no data files at run time.
function(reckon_embed out_var symbol file)
  set(src "${CMAKE_CURRENT_BINARY_DIR}/embed_${symbol}.cpp")
  add_custom_command(
    OUTPUT "${src}"
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${src} -DSYMBOL=${symbol}
            -P "${CMAKE_SOURCE_DIR}/cmake/embed_file.cmake"
    DEPENDS "${file}" "${CMAKE_SOURCE_DIR}/cmake/embed_file.cmake"
    VERBATIM)
  set(${out_var} "${src}" PARENT_SCOPE)
endfunction()
