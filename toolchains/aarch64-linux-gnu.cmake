# Cross build for Raspberry Pi 3/4/5/Zero 2 W on a 64-bit OS (Debian arm64).
# Needs: scripts/install-deps --arch arm64 (g++-aarch64-linux-gnu and the
# arm64 multiarch -dev packages).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(DBR_CROSS_TRIPLET aarch64-linux-gnu)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch.cmake)
