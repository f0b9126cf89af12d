# Every dependency comes from a Debian package (see scripts/install-deps).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED COMPONENTS Crypto SSL)
find_package(CURL 7.88 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(spdlog 1.10 REQUIRED)

pkg_check_modules(CARES REQUIRED IMPORTED_TARGET libcares>=1.18)
pkg_check_modules(INIH REQUIRED IMPORTED_TARGET inih)
# The Public Suffix List (libpsl-dev): the probe's "same site?" rule. libcurl
# already links libpsl, so this adds no library on the board.
pkg_check_modules(PSL REQUIRED IMPORTED_TARGET libpsl>=0.21)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd>=252)
# Debian's cnats CMake package names a libnats_static.a it does not ship, so
# use its pkg-config file.
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats>=3.3)

if(DBR_TESTS)
  find_package(doctest 2.4 REQUIRED)
endif()

