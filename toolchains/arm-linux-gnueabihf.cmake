# Cross build for Raspberry Pi 2/3/4 on a 32-bit OS (Debian armhf = ARMv7 +
# VFPv3-D16). Needs: scripts/install-deps --arch armhf. ARMv6 boards (Pi 1,
# Zero, Zero W) cannot run Debian armhf binaries: see the README.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(DBR_CROSS_TRIPLET arm-linux-gnueabihf)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch.cmake)
