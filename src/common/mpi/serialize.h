// Boost.Serialization to and from a byte string (binary archive: every rank of a job runs the same build on the
// same architecture). Includes the serializers of the standard containers the messages use.
#pragma once

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <sstream>
#include <string>

namespace loom::mpi {

template <class T>
std::string to_bytes(const T& value) {
  std::ostringstream out(std::ios::binary);
  {
    boost::archive::binary_oarchive archive(out, boost::archive::no_header);
    archive << value;
  }
  return out.str();
}

template <class T>
T from_bytes(const std::string& bytes) {
  std::istringstream in(bytes, std::ios::binary);
  boost::archive::binary_iarchive archive(in, boost::archive::no_header);
  T value{};
  archive >> value;
  return value;
}

}  // namespace loom::mpi
