// rw_bench entry point: Google Benchmark's main plus the machine context
// (kernel, CPU model) in the report, so a JSON result is self-describing.
#include <benchmark/benchmark.h>

#include <nghttp2/nghttp2ver.h>
#include <sys/utsname.h>

#include <fstream>
#include <string>

namespace {

std::string cpu_model()
{
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            auto colon = line.find(':');
            if (colon != std::string::npos)
                return line.substr(line.find_first_not_of(" \t", colon + 1));
        }
    }
    return "unknown";
}

} // namespace

int main(int argc, char **argv)
{
    struct utsname u;
    if (uname(&u) == 0)
        benchmark::AddCustomContext("kernel", u.release);
    benchmark::AddCustomContext("cpu_model", cpu_model());
    benchmark::AddCustomContext("peer_parser", "picohttpparser (libh2o-evloop.so)");
    benchmark::AddCustomContext("peer_hpack", "nghttp2 " NGHTTP2_VERSION);

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
