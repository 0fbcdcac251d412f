/// @file
/// libfactotum-faktory, a client for the Faktory job server: everything but the asynchronous
/// API (factotum/faktory/async.hpp, for Boost.Asio programs).
/// @code
///   #include <factotum/faktory.hpp>
///   faktory::Client client;
///   client.push(faktory::Job("send_email").args("bob@example.com")).value();
/// @endcode
#pragma once

#include "factotum/faktory/admin.hpp"
#include "factotum/faktory/client.hpp"
#include "factotum/faktory/job.hpp"
#include "factotum/faktory/options.hpp"
#include "factotum/faktory/result.hpp"
