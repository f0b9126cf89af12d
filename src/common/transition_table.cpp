#include "common/transition_table.hpp"

namespace dbr {

std::string describe(const UnexpectedInput& unexpected) {
  return std::string(unexpected.machine) + ": unexpected input " + std::string(unexpected.input) + " in state " +
         std::string(unexpected.state);
}

}  // namespace dbr
