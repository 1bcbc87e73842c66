// Request corpus shared by the parser micro-benchmarks. Each entry is what a
// server finds in its receive buffer; `requests` is how many complete request
// heads it holds (bodies are skipped by the harness, not parsed).
#ifndef RW_BENCH_CORPUS_H
#define RW_BENCH_CORPUS_H

#include <string>

namespace rwbench {

struct corpus_entry {
    const char *name;
    std::string bytes;
    int requests;
};

// A load generator's minimal request (wrk, h2load style).
inline std::string short_get()
{
    return "GET /plaintext HTTP/1.1\r\n"
           "Host: localhost:8080\r\n"
           "\r\n";
}

// What a desktop browser sends for a sub-resource: 15 header fields.
inline std::string browser_get()
{
    return "GET /static/app/main.3f9a1c.js?v=20240611&lang=en HTTP/1.1\r\n"
           "Host: www.example.com\r\n"
           "Connection: keep-alive\r\n"
           "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
           "sec-ch-ua-mobile: ?0\r\n"
           "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Safari/537.36\r\n"
           "sec-ch-ua-platform: \"Linux\"\r\n"
           "Accept: */*\r\n"
           "Sec-Fetch-Site: same-origin\r\n"
           "Sec-Fetch-Mode: no-cors\r\n"
           "Sec-Fetch-Dest: script\r\n"
           "Referer: https://www.example.com/account/settings?tab=profile\r\n"
           "Accept-Encoding: gzip, deflate, br, zstd\r\n"
           "Accept-Language: en-US,en;q=0.9,de;q=0.8\r\n"
           "Cookie: session=7c1f0a9b2e4d4c8a9f3b6e1d2c5a7b90; theme=dark; _ga=GA1.2.1234567890.1712345678\r\n"
           "If-None-Match: \"5f2b-18c3a9e1f40\"\r\n"
           "\r\n";
}

// An API POST: the head plus the first bytes of its body in the same read.
inline std::string post_small()
{
    return "POST /api/v1/items HTTP/1.1\r\n"
           "Host: api.example.com\r\n"
           "User-Agent: curl/7.88.1\r\n"
           "Accept: application/json\r\n"
           "Content-Type: application/json\r\n"
           "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl\r\n"
           "Content-Length: 41\r\n"
           "\r\n"
           "{\"name\":\"widget\",\"qty\":3,\"price\":12.50}\r\n";
}

// TechEmpower "plaintext" request, as wrk's pipeline script sends it.
inline std::string pipelined_one()
{
    return "GET /plaintext HTTP/1.1\r\n"
           "Host: server\r\n"
           "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n"
           "Connection: keep-alive\r\n"
           "\r\n";
}

constexpr int kPipelineDepth = 16;

inline std::string pipelined_batch()
{
    std::string s;
    for (int i = 0; i < kPipelineDepth; i++)
        s += pipelined_one();
    return s;
}

} // namespace rwbench

#endif
