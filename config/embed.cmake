# Turns a text file into a C string so the binary carries it: the default
# configuration (config/defaults.json), the database schemas (db/*.sql).
if(NOT NAME)
  set(NAME imgscan_default_config)
endif()
get_filename_component(SRC_NAME "${IN}" NAME)
file(READ "${IN}" content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE "${OUT}" "/* generated from ${SRC_NAME} */\nconst char ${NAME}[] = {${bytes} 0x00};\n")
