# Every third-party dependency, found once. All come from Debian packages
# (scripts/install_deps.sh); a CUDA LibTorch is picked up with -DCMAKE_PREFIX_PATH
# (scripts/build-cuda.sh, docs/cluster.md).
#
# Where they live, when not in the system (a cluster without network access):
#   -DPTQAT_DEPS_PREFIX=DIR   Debian packages unpacked into DIR (scripts/bundle-deps.sh): searched
#                             before the system for CMake packages, pkg-config files and HDF5
#   -DPTQAT_NCCL_ROOT=DIR     NCCL's lib/ and include/ (default: the one the CUDA LibTorch ships)
#   -DMPI_HOME=DIR            the cluster's MPI (FindMPI), e.g. from its environment module
set(PTQAT_DEPS_PREFIX "" CACHE PATH "Debian packages unpacked here (scripts/bundle-deps.sh)")
set(PTQAT_NCCL_ROOT "" CACHE PATH "NCCL to link (lib/ and include/); default: LibTorch's own")
option(PTQAT_REQUIRE_CUDA "Fail unless LibTorch has CUDA (scripts/build-cuda.sh)" OFF)
if(PTQAT_DEPS_PREFIX)
  execute_process(COMMAND dpkg-architecture -qDEB_HOST_MULTIARCH OUTPUT_VARIABLE ptqat_multiarch
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT ptqat_multiarch)
    set(ptqat_multiarch x86_64-linux-gnu)
  endif()
  set(ptqat_deps_usr ${PTQAT_DEPS_PREFIX}/usr)
  list(PREPEND CMAKE_PREFIX_PATH ${ptqat_deps_usr} ${ptqat_deps_usr}/lib/${ptqat_multiarch}/cmake)
  # pkg-config reads only the bundle's .pc files, whose paths (prefix=/usr) it moves under the
  # bundle as under a sysroot.
  set(ENV{PKG_CONFIG_LIBDIR} "${ptqat_deps_usr}/lib/${ptqat_multiarch}/pkgconfig:${ptqat_deps_usr}/share/pkgconfig")
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "${PTQAT_DEPS_PREFIX}")
  if(EXISTS ${ptqat_deps_usr}/lib/${ptqat_multiarch}/hdf5/serial)
    set(HDF5_ROOT ${ptqat_deps_usr}/lib/${ptqat_multiarch}/hdf5/serial)
    set(HDF5_INCLUDE_DIRS ${ptqat_deps_usr}/include/hdf5/serial)
  endif()
  message(STATUS "dependencies: ${PTQAT_DEPS_PREFIX} first, then the system")
endif()

find_package(PkgConfig REQUIRED)
# A LibTorch of its own (CMAKE_PREFIX_PATH: the PyTorch wheel's share/cmake, or a LibTorch
# archive) gets its libraries named before TorchConfig.cmake looks for them: it calls
# find_library(... PATHS <its lib/>), which searches the system's folders first, so next to
# Debian's libtorch-dev it would link Debian's libtorch.so and libc10.so with its own headers.
set(ptqat_torch_config_dirs Torch share/cmake/Torch)  # the wheel's share/cmake, the archive
set(ptqat_torch_lib_dirs ../../lib lib)
set(ptqat_torch_library_variables TORCH_LIBRARY c10_LIBRARY C10_CUDA_LIBRARY CAFFE2_NVRTC_LIBRARY)
set(ptqat_torch_library_names torch c10 c10_cuda caffe2_nvrtc)
foreach(prefix IN LISTS CMAKE_PREFIX_PATH)
  foreach(config_dir lib_dir IN ZIP_LISTS ptqat_torch_config_dirs ptqat_torch_lib_dirs)
    if(EXISTS ${prefix}/${config_dir}/TorchConfig.cmake)
      set(ptqat_own_torch ON)
      foreach(variable name IN ZIP_LISTS ptqat_torch_library_variables ptqat_torch_library_names)
        find_library(${variable} ${name} PATHS ${prefix}/${lib_dir} NO_DEFAULT_PATH)
      endforeach()
    endif()
  endforeach()
endforeach()
find_package(Torch REQUIRED)
get_filename_component(ptqat_torch_library_dir "${TORCH_LIBRARY}" DIRECTORY)
get_filename_component(ptqat_torch_prefix "${TORCH_INSTALL_PREFIX}" REALPATH)
string(FIND "${ptqat_torch_library_dir}" "${ptqat_torch_prefix}" ptqat_torch_library_at)
if(ptqat_own_torch AND NOT ptqat_torch_library_at EQUAL 0)
  message(FATAL_ERROR "LibTorch: ${Torch_DIR} came with libraries from elsewhere "
                      "(${TORCH_LIBRARY}); expected them under ${ptqat_torch_prefix}")
endif()
# The PyTorch wheel's libraries find the CUDA libraries of the nvidia-* wheels beside it through
# their $ORIGIN rpath, which the linker does not follow: without these folders it would resolve
# them from ld.so.conf (the CUDA toolkit's older NCCL, missing symbols libtorch_cuda needs).
file(GLOB ptqat_torch_wheel_libs LIST_DIRECTORIES true "${TORCH_INSTALL_PREFIX}/../nvidia/*/lib")
foreach(dir IN LISTS ptqat_torch_wheel_libs)
  add_link_options("LINKER:-rpath-link,${dir}")
endforeach()
# A CUDA LibTorch brings the torch_cuda target.
if(TARGET torch_cuda)
  set(PTQAT_TORCH_CUDA ON)
  message(STATUS "LibTorch ${Torch_VERSION} with CUDA")
else()
  set(PTQAT_TORCH_CUDA OFF)
  if(PTQAT_REQUIRE_CUDA)
    message(FATAL_ERROR "PTQAT_REQUIRE_CUDA: the LibTorch found (${Torch_DIR}) has no CUDA; "
                        "point CMAKE_PREFIX_PATH at a CUDA LibTorch")
  endif()
endif()
find_package(Threads REQUIRED)
find_package(MPI REQUIRED COMPONENTS CXX)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(tomlplusplus REQUIRED)
find_package(spdlog REQUIRED)
# The PyTorch wheel's include folder carries fmt 12 headers of its own, which would shadow the fmt
# that spdlog and ptqat link (Debian's 9) and mix two fmt ABIs in one program: a folder holding
# only the linked fmt's headers is searched first.
if(ptqat_own_torch AND EXISTS ${TORCH_INSTALL_PREFIX}/include/fmt)
  find_package(fmt REQUIRED)
  get_target_property(ptqat_fmt_include fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
  set(ptqat_fmt_shim ${PROJECT_BINARY_DIR}/linked-fmt)
  file(MAKE_DIRECTORY ${ptqat_fmt_shim})
  file(CREATE_LINK ${ptqat_fmt_include}/fmt ${ptqat_fmt_shim}/fmt SYMBOLIC)
  include_directories(BEFORE SYSTEM ${ptqat_fmt_shim})
  message(STATUS "fmt: ${ptqat_fmt_include}/fmt before LibTorch's own copy")
endif()
find_package(CLI11 REQUIRED)
find_package(simdjson REQUIRED)
# libzip's CMake package in Debian 12 references tools that are not installed; use pkg-config.
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
find_package(nlohmann_json REQUIRED)
find_package(Eigen3 REQUIRED NO_MODULE)
find_package(PNG REQUIRED)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
if(PTQAT_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(PTQAT_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
# The CUDA runtime and NCCL for the NCCL communicator's thin layer, distributed/nccl_comm.h.
# Optional: without them ptqat builds CPU-only. With a CUDA LibTorch, NCCL is the one it ships
# (PyTorch's wheels carry it as nvidia-nccl-*, next to torch in site-packages; the LibTorch
# archive links it statically and exports its symbols from libtorch_cuda), never a second copy
# from the CUDA toolkit: two NCCLs in one process disagree on their internal state. With the CPU
# LibTorch (development machines), the toolkit's NCCL lets the code path compile and its tests
# skip.
find_package(CUDAToolkit QUIET)
if(PTQAT_NCCL_ROOT)
  set(ptqat_nccl_hints ${PTQAT_NCCL_ROOT})
elseif(PTQAT_TORCH_CUDA)
  # <site-packages>/torch/share/cmake/Torch -> <site-packages>/nvidia/nccl
  get_filename_component(ptqat_site_packages "${Torch_DIR}/../../../.." ABSOLUTE)
  set(ptqat_nccl_hints ${ptqat_site_packages}/nvidia/nccl ${TORCH_INSTALL_PREFIX})
else()
  set(ptqat_nccl_hints ${CUDAToolkit_LIBRARY_ROOT} /usr/local/cuda)
endif()
find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${ptqat_nccl_hints} PATH_SUFFIXES lib lib64 NO_DEFAULT_PATH)
find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${ptqat_nccl_hints} ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include NO_DEFAULT_PATH)
if(PTQAT_TORCH_CUDA AND NOT PTQAT_NCCL_ROOT AND NOT NCCL_LIBRARY AND NCCL_INCLUDE_DIR)
  # The LibTorch archive: NCCL inside libtorch_cuda.so, linked through torch already.
  set(NCCL_LIBRARY "")
  set(ptqat_nccl_in_torch ON)
endif()
if(CUDAToolkit_FOUND AND NCCL_INCLUDE_DIR AND (NCCL_LIBRARY OR ptqat_nccl_in_torch))
  set(PTQAT_WITH_NCCL ON)
  if(ptqat_nccl_in_torch)
    message(STATUS "NCCL: the one inside LibTorch's libtorch_cuda (headers ${NCCL_INCLUDE_DIR})")
  else()
    message(STATUS "NCCL: ${NCCL_LIBRARY} (CUDA ${CUDAToolkit_VERSION})")
  endif()
else()
  set(PTQAT_WITH_NCCL OFF)
  message(STATUS "NCCL: not found; the NCCL communicator is not built")
endif()
