# Turns config/defaults.json into a C string so the binary carries its defaults.
file(READ "${IN}" content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE "${OUT}" "/* generated from config/defaults.json */\nconst char imgscan_default_config[] = {${bytes} 0x00};\n")
