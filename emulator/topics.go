package emulator

import (
	"net/http"

	"github.com/srimport/srimport/wire"
)

// DefaultTopics returns the emulator's default support topics: eight
// realistic topics with 8-digit ids, among them 32444671 "Partner Center
// account" (the id of the documentation's create example) and 32451178
// "Billing and reservations". Each call returns a fresh slice.
func DefaultTopics() []wire.SupportTopic {
	topics := []wire.SupportTopic{
		{ID: 32444671, Name: "Partner Center account", Description: "Sign-in, account settings, users and roles in Partner Center."},
		{ID: 32444689, Name: "Customer management", Description: "Adding customers, reseller relationships and delegated administration."},
		{ID: 32447105, Name: "Orders and subscriptions", Description: "Placing, changing and cancelling orders and subscriptions."},
		{ID: 32451178, Name: "Billing and reservations", Description: "Invoices, reconciliation files, credits and reserved instances."},
		{ID: 32452263, Name: "Azure plan and usage", Description: "Azure plan provisioning, usage data and cost management."},
		{ID: 32455930, Name: "Microsoft 365 licensing", Description: "Seat counts, license assignment and trials for Microsoft 365."},
		{ID: 32460412, Name: "Partner incentives", Description: "Incentive eligibility, earnings and payments."},
		{ID: 32463377, Name: "API and SDK integration", Description: "Partner Center REST API, SDKs, tokens and throttling."},
	}
	for i := range topics {
		topics[i].Attributes = &wire.Attributes{ObjectType: wire.ObjectSupportTopic}
	}
	return topics
}

// buildTopics indexes the configured topics and renders the topic
// collection once; it never changes afterwards.
func (e *Emulator) buildTopics() []byte {
	items := make([]wireTopic, len(e.cfg.Topics))
	for i, t := range e.cfg.Topics {
		t.Attributes = &wire.Attributes{ObjectType: wire.ObjectSupportTopic}
		e.topics[t.ID] = t
		items[i] = wireTopic{ID: t.ID, Name: t.Name, Description: t.Description, Attributes: wireAttributes{ObjectType: wire.ObjectSupportTopic}}
	}
	return marshal(wireCollection[wireTopic]{
		TotalCount: len(items),
		Items:      items,
		Links:      &wireLinks{Self: &wireLink{URI: "/servicerequests/supporttopics", Method: http.MethodGet}},
		Attributes: wireAttributes{ObjectType: wire.ObjectCollection},
	})
}

func (e *Emulator) listTopics(c *call) {
	if e.cfg.Decommissioned {
		e.fail(c, http.StatusNotFound, codeNotFound, decommissionedMsg)
		return
	}
	e.send(c, http.StatusOK, e.topicBody)
}
