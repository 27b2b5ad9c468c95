-- One database per service (docker-compose.yml). Runs once, when the PostgreSQL volume is new.
CREATE DATABASE gateway;
CREATE DATABASE datasets;
CREATE DATABASE training;
CREATE DATABASE registry;
CREATE DATABASE inference;
CREATE DATABASE infra;
