file(READ "${IN}" content)
file(WRITE "${OUT}" "#include <string_view>\nnamespace reckon::embedded {\nextern const std::string_view ${SYMBOL};\nconst std::string_view ${SYMBOL} = R\"reckon_embed(${content})reckon_embed\";\n}\n")
