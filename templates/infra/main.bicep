// What the infrastructure team creates once per environment (dev, prod) for amlops: an Azure ML
// workspace with its storage account, key vault, container registry and Application Insights, an
// optional Azure ML registry shared by the environments, and a user-assigned identity that CI
// signs in as through OIDC (a federated credential for GitHub Actions or Azure DevOps; no secret).
// Everything inside the workspace (computes, datastores, data, environments, schedules) is then
// amlops-setup's job. Deploy: see README.md. Not exercised by this project's tests.
targetScope = 'resourceGroup'

@description('Short name of the project; resource names derive from it (letters and digits).')
@minLength(3)
@maxLength(12)
param project string

@description('The environment this deployment is for (names and tags).')
@allowed(['dev', 'test', 'prod'])
param environment string = 'dev'

param location string = resourceGroup().location

@description('Also create an Azure ML registry (models promoted across environments). Create it in one deployment only, e.g. prod.')
param createRegistry bool = false

@description('Where CI runs: github (GitHub Actions OIDC) or azuredevops (workload identity federation of a service connection).')
@allowed(['github', 'azuredevops'])
param ciHost string = 'github'

@description('GitHub: the subject of the token, e.g. repo:ORG/REPO:environment:dev or repo:ORG/REPO:ref:refs/heads/main. Azure DevOps: sc://ORG/PROJECT/SERVICE-CONNECTION.')
param federatedSubject string

@description('Azure DevOps only: the organization id (GUID) in the issuer https://vstoken.dev.azure.com/<id>.')
param azureDevOpsOrganizationId string = ''

@description('Public network access of the workspace and its storage.')
@allowed(['Enabled', 'Disabled'])
param publicNetworkAccess string = 'Enabled'

var suffix = toLower('${project}${environment}${uniqueString(resourceGroup().id)}')
var tags = {
  project: project
  environment: environment
  'managed-by': 'bicep (amlops templates/infra)'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  name: take('st${suffix}', 24)
  location: location
  tags: tags
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: publicNetworkAccess
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: take('kv-${suffix}', 24)
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

resource acr 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: take('cr${suffix}', 50)
  location: location
  tags: tags
  sku: { name: 'Standard' }
  properties: { adminUserEnabled: false }
}

resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: 'log-${suffix}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${suffix}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
  }
}

resource workspace 'Microsoft.MachineLearningServices/workspaces@2024-04-01' = {
  name: 'mlw-${project}-${environment}'
  location: location
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: {
    friendlyName: '${project} (${environment})'
    storageAccount: storage.id
    keyVault: vault.id
    applicationInsights: insights.id
    containerRegistry: acr.id
    publicNetworkAccess: publicNetworkAccess
  }
}

resource registry 'Microsoft.MachineLearningServices/registries@2024-04-01' = if (createRegistry) {
  name: 'mlr-${project}'
  location: location
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: {
    regionDetails: [
      {
        location: location
        storageAccountDetails: [
          { systemCreatedStorageAccount: { storageAccountType: 'Standard_LRS', storageAccountHnsEnabled: false } }
        ]
        acrDetails: [
          { systemCreatedAcrAccount: { acrAccountSku: 'Premium' } }
        ]
      }
    ]
  }
}

// The identity CI signs in as (AZURE_CLIENT_ID), with a federated credential instead of a secret.
resource ci 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${project}-${environment}-ci'
  location: location
  tags: tags
}

resource federation 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: ci
  name: ciHost
  properties: {
    issuer: ciHost == 'github' ? 'https://token.actions.githubusercontent.com' : 'https://vstoken.dev.azure.com/${azureDevOpsOrganizationId}'
    subject: federatedSubject
    audiences: ['api://AzureADTokenExchange']
  }
}

// Built-in role definitions.
var contributor = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f7382dd24c')
var blobDataContributor = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')

// CI manages what is inside the workspace (jobs, models, computes, datastores, schedules, endpoints):
// Contributor on the workspace only. Narrow it to the AzureML Data Scientist and AzureML Compute
// Operator roles when your policy asks for it.
resource ciOnWorkspace 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: workspace
  name: guid(workspace.id, ci.id, contributor)
  properties: {
    roleDefinitionId: contributor
    principalId: ci.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Identity-based datastores and uploads of code and data (amlops-job, amlops-setup) write blobs.
resource ciOnStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, ci.id, blobDataContributor)
  properties: {
    roleDefinitionId: blobDataContributor
    principalId: ci.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The workspace's own identity reads identity-based datastores in the same account.
resource workspaceOnStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, workspace.id, blobDataContributor)
  properties: {
    roleDefinitionId: blobDataContributor
    principalId: workspace.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// amlops-promote publishes models into the registry.
resource ciOnRegistry 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (createRegistry) {
  scope: registry
  name: guid(resourceGroup().id, 'mlr-${project}', ci.id, contributor)
  properties: {
    roleDefinitionId: contributor
    principalId: ci.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

@description('environments.<env>.workspace in amlops.yml (and AMLOPS_WORKSPACE).')
output amlopsWorkspace string = 'azureml://subscriptions/${subscription().subscriptionId}/resourcegroups/${resourceGroup().name}/workspaces/${workspace.name}'
output workspaceName string = workspace.name
output workspaceId string = workspace.id
@description('environments.<env>.registry in amlops.yml (empty when no registry was created).')
output registryName string = createRegistry ? registry.name : ''
@description('AZURE_CLIENT_ID of the CI workflow or service connection.')
output ciClientId string = ci.properties.clientId
output tenantId string = subscription().tenantId
output subscriptionId string = subscription().subscriptionId
output storageAccountName string = storage.name
output containerRegistryName string = acr.name
