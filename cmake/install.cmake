# Installation and packaging of libagentsbx, included by the top-level
# CMakeLists.txt after the targets exist. `cmake --install BUILD [--prefix P]`
# installs:
#   include/agentsbx/*.h            every public header and the generated version.h
#   lib*/libagentsbx.so{,.0,.0.1.0}, lib*/libagentsbx.a
#   bin/agentsbx                    the CLI (RPATH $ORIGIN/../<libdir>)
#   share/man/man1/agentsbx.1       its manual page
#   lib*/pkgconfig/agentsbx.pc      for pkg-config
#   lib*/cmake/agentsbx/            for find_package(agentsbx CONFIG)
# The libraries themselves are installed by lib/CMakeLists.txt into the export
# set agentsbxTargets; the CLI by tools/CMakeLists.txt.
include(CMakePackageConfigHelpers)

# Headers: the whole directory, so that a header added later is installed
# without touching a list.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/agentsbx/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/agentsbx
        FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/include/agentsbx/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/agentsbx)

# The CLI finds the library beside it, wherever the prefix is.
if(NOT IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" AND NOT IS_ABSOLUTE "${CMAKE_INSTALL_BINDIR}")
  file(RELATIVE_PATH _sbx_bin_to_lib /${CMAKE_INSTALL_BINDIR} /${CMAKE_INSTALL_LIBDIR})
  set_target_properties(agentsbx_cli PROPERTIES INSTALL_RPATH "$ORIGIN/${_sbx_bin_to_lib}")
endif()

install(FILES ${PROJECT_SOURCE_DIR}/docs/agentsbx.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# CMake package: agentsbx::agentsbx (shared), agentsbx::agentsbx_static.
set(SBX_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/agentsbx)
install(EXPORT agentsbxTargets NAMESPACE agentsbx:: DESTINATION ${SBX_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/agentsbxConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/agentsbxConfig.cmake INSTALL_DESTINATION ${SBX_CMAKE_DIR})
# 0.x: only the same minor version is compatible (the SONAME stays .so.0, but
# symbols are only added in new nodes, so a 0.2 consumer needs a 0.2 library).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/agentsbxConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/agentsbxConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/agentsbxConfigVersion.cmake
        DESTINATION ${SBX_CMAKE_DIR})

# pkg-config: written at install time, so that its prefix is the one given to
# `cmake --install --prefix`, not the one configured.
install(CODE "
  set(SBX_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  if(IS_ABSOLUTE \"${CMAKE_INSTALL_LIBDIR}\")
    set(SBX_PC_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  else()
    set(SBX_PC_LIBDIR \"\\\${prefix}/${CMAKE_INSTALL_LIBDIR}\")
  endif()
  if(IS_ABSOLUTE \"${CMAKE_INSTALL_INCLUDEDIR}\")
    set(SBX_PC_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  else()
    set(SBX_PC_INCLUDEDIR \"\\\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}\")
  endif()
  set(PROJECT_VERSION \"${PROJECT_VERSION}\")
  configure_file(\"${CMAKE_CURRENT_LIST_DIR}/agentsbx.pc.in\" \"${PROJECT_BINARY_DIR}/cmake/agentsbx.pc\" @ONLY)
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig\"
       TYPE FILE FILES \"${PROJECT_BINARY_DIR}/cmake/agentsbx.pc\")
")
