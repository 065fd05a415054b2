/*
 * routes.c -- the one route table of the API, assembled from each resource
 * file's own table (so adding a resource touches its file and one line
 * here).
 */
#include <pthread.h>
#include <string.h>

#include "api.h"

#define TABLE(name)                                   \
	extern const struct route api_##name##_routes[]; \
	extern const size_t api_##name##_nroutes;
TABLE(health)
TABLE(session)
TABLE(user)
TABLE(team)
TABLE(role)
TABLE(audit)
TABLE(account)
TABLE(customer)
TABLE(webhook)
TABLE(ticket)
TABLE(ticket_op)
TABLE(message)
TABLE(ticket_admin)
TABLE(channel)
TABLE(attachment)
TABLE(realtime)
TABLE(widget)
#undef TABLE

#define MAX_ROUTES 256
static struct route all[MAX_ROUTES];
static size_t nall;

static void add(const struct route *t, size_t n)
{
	for (size_t i = 0; i < n && nall < MAX_ROUTES; i++)
		all[nall++] = t[i];
}

static void assemble(void)
{
	add(api_health_routes, api_health_nroutes);
	add(api_session_routes, api_session_nroutes);
	add(api_user_routes, api_user_nroutes);
	add(api_team_routes, api_team_nroutes);
	add(api_role_routes, api_role_nroutes);
	add(api_audit_routes, api_audit_nroutes);
	add(api_account_routes, api_account_nroutes);
	add(api_webhook_routes, api_webhook_nroutes);
	add(api_customer_routes, api_customer_nroutes);
	/* Fixed paths before the {id} patterns that would also match them. */
	add(api_ticket_op_routes, api_ticket_op_nroutes);
	add(api_ticket_routes, api_ticket_nroutes);
	add(api_message_routes, api_message_nroutes);
	add(api_ticket_admin_routes, api_ticket_admin_nroutes);
	add(api_channel_routes, api_channel_nroutes);
	add(api_attachment_routes, api_attachment_nroutes);
	add(api_realtime_routes, api_realtime_nroutes);
	add(api_widget_routes, api_widget_nroutes);
}

const struct route *api_routes(size_t *n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, assemble);
	*n = nall;
	return all;
}
