"""The Terrebonne registration-portal assistant's own library, testable without Rasa."""
