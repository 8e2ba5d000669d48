// SPDX-License-Identifier: MIT
// Catch2 v2 (Debian 12) has no Catch2WithMain target: the runner's main lives here, compiled once.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
