/* WebSocket and SSE demo routes: /ws/echo, /ws/chat, /events and the
 * /realtime test page (docs/websocket.md). */
#ifndef RW_APP_REALTIME_DEMO_H
#define RW_APP_REALTIME_DEMO_H

#include "ringwire/ringwire.h"

int rw_app_add_realtime_routes(rw_server *s, const rw_config *cfg);

#endif
