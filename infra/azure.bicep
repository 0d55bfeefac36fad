// Vigil on Azure: App Service (Linux, Node 20) running as a user-assigned managed identity, the
// Azure Bot resource (SingleTenant app, or the managed identity itself) with its Teams channel,
// Azure Database for PostgreSQL Flexible Server, Application Insights, and the app settings that
// are Vigil's configuration (names as in .env.example; test/ship/infra.test.ts checks them).
// Deployed by `atk provision` (m365agents.yml, arm/deploy) or by hand:
//   az deployment group create -g <rg> -f infra/azure.bicep -p infra/azure.parameters.json (placeholders filled)

@minLength(4)
@maxLength(20)
@description('Base of every resource name (lower-case letters and digits)')
param resourceBaseName string

@description('Region of the App Service, PostgreSQL and Application Insights (the Azure Bot is global)')
param location string = resourceGroup().location

@description('App Service plan SKU (B1 or larger: Always On is needed for scheduled scans)')
param webAppSku string = 'B1'

@description('Instances of the App Service (several processes share one PostgreSQL; README "Operations")')
@minValue(1)
param instanceCount int = 1

@maxLength(42)
param botDisplayName string = 'Vigil'

@description('Bot identity: SingleTenant (an Entra app with a secret, botAadAppClientId) or UserAssignedMSI (this deployment\'s managed identity)')
@allowed(['SingleTenant', 'UserAssignedMSI'])
param botAppType string = 'SingleTenant'

@description('Client id of the bot\'s single-tenant Entra app (BOT_ID); ignored for UserAssignedMSI')
param botAadAppClientId string = ''

@secure()
@description('Client secret of the bot\'s Entra app (BOT_PASSWORD); ignored for UserAssignedMSI')
param botAadAppClientSecret string = ''

@description('Tenant of the bot\'s Entra app (BOT_TENANT_ID)')
param botTenantId string = tenant().tenantId

@description('Tenant Vigil audits (AZURE_TENANT_ID)')
param graphTenantId string = tenant().tenantId

@description('Graph credential: secret (the Graph app graphClientId + graphClientSecret) or managed-identity (the user-assigned identity below; grant it the Graph app roles)')
@allowed(['secret', 'managed-identity'])
param graphCredential string = 'secret'

@description('Client id of Vigil\'s Graph app (AZURE_CLIENT_ID) for graphCredential=secret')
param graphClientId string = ''

@secure()
@description('Client secret of Vigil\'s Graph app (AZURE_CLIENT_SECRET) for graphCredential=secret')
param graphClientSecret string = ''

@description('Graph endpoint for national clouds (GRAPH_BASE_URL); empty = https://graph.microsoft.com')
param graphBaseUrl string = ''

@description('Entra authority for national clouds (AZURE_AUTHORITY_HOST); empty = global')
param authorityHost string = ''

@description('Entra group whose transitive members approve fixes (APPROVER_GROUP_ID)')
param approverGroupId string = ''

@description('on = fixes offered (behind approval); off = read-only install (REMEDIATION)')
@allowed(['on', 'off'])
param remediation string = 'on'

@secure()
@description('Key that signs report download links (REPORT_LINK_SECRET), at least 32 characters; the same on every instance')
param reportLinkSecret string

@description('PostgreSQL administrator login')
param postgresAdminLogin string = 'vigiladmin'

@secure()
@description('PostgreSQL administrator password')
param postgresAdminPassword string

param postgresSkuName string = 'Standard_B1ms'
param postgresSkuTier string = 'Burstable'
param postgresVersion string = '16'

@allowed(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
param logLevel string = 'info'

var identityName = '${resourceBaseName}-identity'
var planName = '${resourceBaseName}-plan'
var webAppName = resourceBaseName
var postgresName = '${resourceBaseName}-pg'
var databaseName = 'vigil'
var botUsesMsi = botAppType == 'UserAssignedMSI'
var graphUsesMsi = graphCredential == 'managed-identity'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: identityName
  location: location
}

resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: '${resourceBaseName}-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${resourceBaseName}-insights'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'Node.JS'
    WorkspaceResourceId: logs.id
  }
}

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2022-12-01' = {
  name: postgresName
  location: location
  sku: {
    name: postgresSkuName
    tier: postgresSkuTier
  }
  properties: {
    version: postgresVersion
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    storage: { storageSizeGB: 32 }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: { mode: 'Disabled' }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2022-12-01' = {
  parent: postgres
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

// Public access limited to Azure services (the App Service's outbound addresses). For a private
// network, put both in a virtual network instead (not part of this template).
resource postgresAzureAccess 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2022-12-01' = {
  parent: postgres
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

resource plan 'Microsoft.Web/serverfarms@2022-09-01' = {
  name: planName
  location: location
  kind: 'linux'
  sku: {
    name: webAppSku
    capacity: instanceCount
  }
  properties: {
    reserved: true
  }
}

var databaseUrl = 'postgres://${uriComponent(postgresAdminLogin)}:${uriComponent(postgresAdminPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${databaseName}?sslmode=require'

resource webApp 'Microsoft.Web/sites@2022-09-01' = {
  name: webAppName
  location: location
  kind: 'app,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      linuxFxVersion: 'NODE|20-lts'
      appCommandLine: 'node dist/bot/index.js'
      alwaysOn: true
      http20Enabled: true
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      // Readiness: database reachable and a Graph token obtainable (instances failing it leave the load balancer).
      healthCheckPath: '/readyz'
      appSettings: [
        // --- platform ---
        { name: 'WEBSITE_RUN_FROM_PACKAGE', value: '1' }
        { name: 'SCM_DO_BUILD_DURING_DEPLOYMENT', value: 'false' }
        // --- HTTP ---
        { name: 'NODE_ENV', value: 'production' }
        { name: 'PUBLIC_URL', value: 'https://${webAppName}.azurewebsites.net' }
        // --- Bot Framework identity ---
        { name: 'BOT_ID', value: botUsesMsi ? identity.properties.clientId : botAadAppClientId }
        { name: 'BOT_PASSWORD', value: botUsesMsi ? '' : botAadAppClientSecret }
        { name: 'BOT_TYPE', value: botAppType }
        { name: 'BOT_TENANT_ID', value: botUsesMsi ? identity.properties.tenantId : botTenantId }
        // --- Microsoft Graph ---
        { name: 'AZURE_TENANT_ID', value: graphTenantId }
        { name: 'AZURE_CLIENT_ID', value: graphUsesMsi ? identity.properties.clientId : graphClientId }
        { name: 'AZURE_CLIENT_SECRET', value: graphUsesMsi ? '' : graphClientSecret }
        { name: 'AZURE_MANAGED_IDENTITY', value: graphUsesMsi ? 'user-assigned' : 'off' }
        { name: 'GRAPH_BASE_URL', value: graphBaseUrl }
        { name: 'AZURE_AUTHORITY_HOST', value: authorityHost }
        // --- who approves, fixes, reports ---
        { name: 'APPROVER_GROUP_ID', value: approverGroupId }
        { name: 'REMEDIATION', value: remediation }
        { name: 'REPORT_LINK_SECRET', value: reportLinkSecret }
        // --- storage ---
        { name: 'DATABASE_URL', value: databaseUrl }
        // --- operations ---
        { name: 'LOG_LEVEL', value: logLevel }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
      ]
    }
  }
  dependsOn: [
    database
    postgresAzureAccess
  ]
}

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: resourceBaseName
  location: 'global'
  kind: 'azurebot'
  sku: { name: 'F0' }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${webApp.properties.defaultHostName}/api/messages'
    msaAppId: botUsesMsi ? identity.properties.clientId : botAadAppClientId
    msaAppTenantId: botUsesMsi ? identity.properties.tenantId : botTenantId
    msaAppType: botAppType
    msaAppMSIResourceId: botUsesMsi ? identity.id : null
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
  }
}

// Written to env/.env.<env> by the Toolkit (arm/deploy outputs).
output AZURE_APP_SERVICE_RESOURCE_ID string = webApp.id
output BOT_DOMAIN string = webApp.properties.defaultHostName
output BOT_ENDPOINT string = 'https://${webApp.properties.defaultHostName}'
output MANAGED_IDENTITY_CLIENT_ID string = identity.properties.clientId
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
output POSTGRES_HOST string = postgres.properties.fullyQualifiedDomainName
