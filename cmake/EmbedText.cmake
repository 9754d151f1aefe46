# Writes OUT: a header declaring `inline constexpr std::string_view NAME` with the text of IN
# (a raw string literal; IN must not contain the delimiter `)amlops_embed"`).
# Usage: cmake -DIN=file -DOUT=header -DNAME=ident -P EmbedText.cmake
file(READ ${IN} text)
string(FIND "${text}" ")amlops_embed\"" bad)
if(NOT bad EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw string delimiter")
endif()
file(WRITE ${OUT}.tmp "// Generated from ${IN} by cmake/EmbedText.cmake; do not edit.\n#pragma once\n#include <string_view>\n"
  "inline constexpr std::string_view ${NAME} = R\"amlops_embed(${text})amlops_embed\";\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
