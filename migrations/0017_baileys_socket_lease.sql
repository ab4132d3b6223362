-- One WhatsApp Web socket per Baileys channel across instances. Each process's supervisor takes a
-- lease on the channel row before opening a socket and renews it while the socket lives; another
-- instance opens one only once the lease has lapsed (its holder died or let go). Two sockets for one
-- number make WhatsApp close one with "connection replaced" — and the two instances would take
-- turns replacing each other in a reconnect loop.
alter table whatsapp_channels
  add column socket_owner text check (length(socket_owner) <= 200),
  add column socket_lease_until timestamptz;
