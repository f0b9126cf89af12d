#pragma once
// The process's resident set after start-up.
//
// VmRSS counts every page of every mapped file the process has touched:
// the dynamic loader, the libraries' constructors and the agent's own
// start-up (config, OpenSSL and curl initialisation) touch far more code
// than the running agent uses, and the kernel maps up to 16 neighbouring
// pages at each fault (fault-around). Those pages stay mapped, and counted,
// for the life of the process.
#include <cstddef>

namespace dbr {

// Unmaps (madvise MADV_DONTNEED) every read-only file mapping that holds no
// private page: code and constants of the executable and its libraries.
// Safe because such pages equal the file's: the next access maps them again
// from the page cache (a minor fault), so the running agent soon holds
// again what it uses, and no more. Writable mappings, and read-only ones
// with private (copied-on-write) pages, such as relocated data, are left
// alone: dropping those would lose their contents. Returns the KiB it
// unmapped.
std::size_t drop_clean_file_pages();

}  // namespace dbr
