/* rw_stream_* entry points: forward to the engine that owns the stream. */
#include "conn/request.h"

int rw_stream_write(rw_stream *st, const void *data, size_t len)
{
    return st ? st->write(st, data, len) : -1;
}

void rw_stream_wake(rw_stream *st)
{
    if (st)
        st->wake(st);
}
