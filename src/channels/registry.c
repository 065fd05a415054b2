/* registry.c -- see channels.h. */
#include "channels.h"

void channels_register_all(void)
{
	channel_register(&channel_api_driver);
	channel_register(&channel_web_driver);
	channel_register(&channel_email_driver);
}
