# Shared part of the toolchain files: Debian's cross compiler for
# DBR_CROSS_TRIPLET, libraries and pkg-config files from the multiarch
# folders (/usr/lib/<triplet>), headers from /usr/include.
set(CMAKE_C_COMPILER ${DBR_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${DBR_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${DBR_CROSS_TRIPLET})

# Look for programs on the build machine, for libraries and headers in the
# target's multiarch folders only.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

set(CMAKE_FIND_ROOT_PATH /usr/${DBR_CROSS_TRIPLET})
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${DBR_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")

# Tests built for the target run under qemu-user. No -L sysroot: the loader
# must come from the multiarch libc6:<arch> (/lib/ld-linux-*.so), the same
# build as the libc.so it loads. The cross toolchain's older copy in
# /usr/<triplet> paired with the multiarch libc.so hangs in pthread_create.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-${CMAKE_SYSTEM_PROCESSOR})
