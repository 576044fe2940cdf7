#!/bin/sh
# The machine is as a test run must leave it: the device nodes and links that
# every program relies on are what they should be.  Runs before and after the
# whole suite (ctest fixture): a report once replaced /dev/null with a file.
fail=0
check_char() { # path major minor
	if [ ! -c "$1" ] || [ "$(stat -c '%t,%T' "$1")" != "$2" ]; then
		echo "FAIL: $1 is not the character device it must be:"; ls -l "$1"; fail=1
	fi
}
check_link() { # path target
	if [ ! -L "$1" ] || [ "$(readlink "$1")" != "$2" ]; then
		echo "FAIL: $1 is not a symlink to $2:"; ls -l "$1"; fail=1
	fi
}
check_char /dev/null 1,3
check_char /dev/zero 1,5
for s in stdin:0 stdout:1 stderr:2; do
	check_link "/dev/${s%%:*}" "/proc/self/fd/${s#*:}"
done
check_link /dev/fd /proc/self/fd
leftover=$(ls -d /dev/*.tmp.* /dev/.imgscan-* 2>/dev/null)
if [ -n "$leftover" ]; then
	echo "FAIL: imgscan temporary files in /dev: $leftover"; fail=1
fi
[ $fail = 0 ] && echo "machine intact: /dev/null, /dev/zero, /dev/std*, /dev/fd"
exit $fail
