# The AVX-512 dot kernels compiled a second time into kernel_tests with SIMDe's portable
# implementations of the intrinsics (POCKETLM_AVX512_VIA_SIMDE, which also renames the fill
# function to fill_dot_avx512_simde), so dot_avx512_emulated_test.cpp can check them against ref
# on hosts without AVX-512. No -m flags: the emulated build runs on any x86-64.
if(POCKETLM_X86 AND TARGET kernel_tests)
  find_path(POCKETLM_SIMDE_INCLUDE_DIR simde/x86/avx512.h)
  if(POCKETLM_SIMDE_INCLUDE_DIR)
    set(dot_avx512_source ${CMAKE_SOURCE_DIR}/src/kernels/x86_avx512/dot_avx512.cpp)
    target_sources(kernel_tests PRIVATE ${dot_avx512_source})
    # Properties of a source file are per directory: these apply to kernel_tests' copy only, the
    # library keeps its own -mavx512* flags. -Wno-psabi: 512-bit vectors passed by value without
    # -mavx512f, harmless inside this file whose kernels are reached only through the table.
    set_source_files_properties(${dot_avx512_source} PROPERTIES
      COMPILE_DEFINITIONS POCKETLM_AVX512_VIA_SIMDE=1
      COMPILE_OPTIONS "-Wno-psabi")
    target_include_directories(kernel_tests PRIVATE ${POCKETLM_SIMDE_INCLUDE_DIR})
    target_compile_definitions(kernel_tests PRIVATE POCKETLM_TEST_DOT_AVX512_SIMDE=1)
  else()
    message(STATUS "SIMDe not found (libsimde-dev): AVX-512 dots are tested only on AVX-512 hosts")
  endif()
endif()
