# CMake package configuration of libavpgan: find_package(avpgan) defines the imported target
# avpgan::avpgan (the shared library with its include directory). Paths are computed from this
# file's location (<prefix>/<libdir>/cmake/avpgan, where <libdir> is lib/<multiarch> in the Debian
# package and lib after `make install PREFIX=...`), so an unpacked package or a prefix works too.
get_filename_component(_avpgan_libdir "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
get_filename_component(_avpgan_prefix "${_avpgan_libdir}/.." ABSOLUTE)
if(NOT EXISTS "${_avpgan_prefix}/include/avpgan.h")
  get_filename_component(_avpgan_prefix "${_avpgan_libdir}/../.." ABSOLUTE)
endif()

if(NOT TARGET avpgan::avpgan)
  add_library(avpgan::avpgan SHARED IMPORTED)
  set_target_properties(avpgan::avpgan PROPERTIES
    IMPORTED_LOCATION "${_avpgan_libdir}/libavpgan.so.0"
    IMPORTED_SONAME "libavpgan.so.0"
    INTERFACE_INCLUDE_DIRECTORIES "${_avpgan_prefix}/include")
endif()

if(NOT EXISTS "${_avpgan_libdir}/libavpgan.so.0" OR NOT EXISTS "${_avpgan_prefix}/include/avpgan.h")
  set(avpgan_FOUND FALSE)
  set(avpgan_NOT_FOUND_MESSAGE "libavpgan.so.0 or avpgan.h is missing under ${_avpgan_prefix}")
endif()
set(avpgan_LIBRARIES avpgan::avpgan)
set(avpgan_INCLUDE_DIRS "${_avpgan_prefix}/include")
unset(_avpgan_prefix)
unset(_avpgan_libdir)
