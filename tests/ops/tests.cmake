# Verify the AVX-512 element-wise kernels on hosts without AVX-512: compile them once more through
# SIMDe (portable implementations of the x86 intrinsics) into kernel_tests, which then checks
# that table against ref/ like every runnable one. Only on x86 builds, where the file is compiled.
if(POCKETLM_X86 AND TARGET kernel_tests)
  find_path(POCKETLM_SIMDE_INCLUDE_DIR simde/x86/avx512.h)
  if(POCKETLM_SIMDE_INCLUDE_DIR)
    target_sources(kernel_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/ops_avx512_simde.cpp)
    # 512-bit vectors passed by value without -mavx512f: fine inside this one file, whose
    # functions other code calls only through the table.
    set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/ops_avx512_simde.cpp PROPERTIES
      COMPILE_OPTIONS "-Wno-psabi")
    target_include_directories(kernel_tests PRIVATE ${POCKETLM_SIMDE_INCLUDE_DIR})
    target_compile_definitions(kernel_tests PRIVATE POCKETLM_TEST_OPS_AVX512_SIMDE=1)
  else()
    message(STATUS "SIMDe not found (libsimde-dev): AVX-512 ops are tested only on AVX-512 hosts")
  endif()
endif()
