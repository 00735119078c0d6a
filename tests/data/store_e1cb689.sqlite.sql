-- The store as `Base.metadata.create_all` made it at commit e1cb689 (sqlite).

CREATE TABLE audit (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	user VARCHAR(30) NOT NULL, 
	action VARCHAR(30) NOT NULL, 
	app VARCHAR(100), 
	deployment_id VARCHAR(100), 
	channel VARCHAR(30) NOT NULL, 
	outcome VARCHAR(20) NOT NULL, 
	detail TEXT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE claims (
	"key" VARCHAR(255) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY ("key")
);

CREATE TABLE deployments (
	id INTEGER NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	app VARCHAR(100) NOT NULL, 
	provider VARCHAR(30) NOT NULL, 
	deployment_id VARCHAR(100), 
	channel VARCHAR(30) NOT NULL, 
	root_ts VARCHAR(30) NOT NULL, 
	requester VARCHAR(30) NOT NULL, 
	ref VARCHAR(255), 
	env JSON NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	approval VARCHAR(20), 
	approved_by VARCHAR(30), 
	prompt_ts VARCHAR(30), 
	owner VARCHAR(64), 
	lease_until DATETIME, 
	failing_since DATETIME, 
	outage_noticed BOOLEAN NOT NULL, 
	abandoned BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_deployments_app_deployment ON deployments (app, deployment_id);

CREATE TABLE locks (
	app VARCHAR(100) NOT NULL, 
	reason TEXT NOT NULL, 
	locked_by VARCHAR(30) NOT NULL, 
	channel VARCHAR(30) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (app)
);

CREATE TABLE outbox (
	id INTEGER NOT NULL, 
	tracked_id INTEGER, 
	channel VARCHAR(30) NOT NULL, 
	kind VARCHAR(10) NOT NULL, 
	thread_ts VARCHAR(30), 
	target_ts VARCHAR(30), 
	text TEXT NOT NULL, 
	blocks JSON NOT NULL, 
	broadcast BOOLEAN NOT NULL, 
	purpose VARCHAR(20), 
	state VARCHAR(12) NOT NULL, 
	owner VARCHAR(64), 
	lease_until DATETIME, 
	sent_ts VARCHAR(30), 
	attempts INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_outbox_state_channel ON outbox (state, channel);
