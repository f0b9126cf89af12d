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

# DBR_CROSS_SYSROOT: the target's packages unpacked in a folder
# (scripts/make-sysroot) instead of installed through multiarch. The
# compiler still brings its own libc and libstdc++; the folder adds the
# libraries, their headers and their pkg-config and CMake files.
# CMake reads this file more than once, sometimes where the cache variable
# is not visible: the environment carries the choice to every reading.
set(DBR_CROSS_SYSROOT "" CACHE PATH "Unpacked target packages (scripts/make-sysroot); empty: multiarch")
if(DBR_CROSS_SYSROOT)
  set(ENV{DBR_CROSS_SYSROOT} "${DBR_CROSS_SYSROOT}")
endif()
set(ENV{PKG_CONFIG_PATH} "")
if(DEFINED ENV{DBR_CROSS_SYSROOT} AND NOT "$ENV{DBR_CROSS_SYSROOT}" STREQUAL "")
  set(_sysroot "$ENV{DBR_CROSS_SYSROOT}")
  set(CMAKE_FIND_ROOT_PATH ${_sysroot} /usr/${DBR_CROSS_TRIPLET})
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "${_sysroot}")
  set(ENV{PKG_CONFIG_LIBDIR} "${_sysroot}/usr/lib/${DBR_CROSS_TRIPLET}/pkgconfig:${_sysroot}/usr/share/pkgconfig")
  # The libraries' own dependencies (libcurl's, libssl's) live there too.
  set(CMAKE_EXE_LINKER_FLAGS_INIT
      "-Wl,-rpath-link,${_sysroot}/usr/lib/${DBR_CROSS_TRIPLET} -Wl,-rpath-link,${_sysroot}/lib/${DBR_CROSS_TRIPLET}")
  # Architecture-specific headers (curl's, openssl's configuration).
  set(CMAKE_CXX_FLAGS_INIT "-isystem ${_sysroot}/usr/include/${DBR_CROSS_TRIPLET} -isystem ${_sysroot}/usr/include")
  set(CMAKE_C_FLAGS_INIT "${CMAKE_CXX_FLAGS_INIT}")
else()
  set(CMAKE_FIND_ROOT_PATH /usr/${DBR_CROSS_TRIPLET})
  set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${DBR_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
endif()

# Tests built for the target run under qemu-user. No -L sysroot: the loader
# must come from the multiarch libc6:<arch> (/lib/ld-linux-*.so), the same
# build as the libc.so it loads. The cross toolchain's older copy in
# /usr/<triplet> paired with the multiarch libc.so hangs in pthread_create.
# With an unpacked sysroot, loader and libc both come from it (-L).
if(DEFINED _sysroot)
  set(CMAKE_CROSSCOMPILING_EMULATOR qemu-${CMAKE_SYSTEM_PROCESSOR};-L;${_sysroot})
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR qemu-${CMAKE_SYSTEM_PROCESSOR})
endif()
