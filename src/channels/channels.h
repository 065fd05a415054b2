/*
 * channels.h -- the channel drivers compiled into Kefu, one file each, and
 * their registration (done once at start-up by serve and by tests).
 */
#ifndef KEFU_CHANNELS_H
#define KEFU_CHANNELS_H

#include "../core/channel.h"

extern const struct channel_driver channel_api_driver;
extern const struct channel_driver channel_web_driver;
extern const struct channel_driver channel_email_driver;

/* Register every driver above. */
void channels_register_all(void);

#endif
