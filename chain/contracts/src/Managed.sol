// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IController, IRoundsManager, IBondingManager} from "./Interfaces.sol";

/// @notice Base of the contracts registered in the Controller: they find
/// each other through it and stop, as the protocol's contracts do, while the
/// Controller is paused.
abstract contract Managed {
    bytes32 internal constant TICKET_BROKER_ID = keccak256("TicketBroker");
    bytes32 internal constant ROUNDS_MANAGER_ID = keccak256("RoundsManager");
    bytes32 internal constant BONDING_MANAGER_ID = keccak256("BondingManager");

    IController public immutable controller;

    constructor(address controllerAddress) {
        require(controllerAddress != address(0), "controller is zero");
        controller = IController(controllerAddress);
    }

    modifier whenSystemNotPaused() {
        require(!controller.paused(), "system is paused");
        _;
    }

    function roundsManager() internal view returns (IRoundsManager) {
        return IRoundsManager(controller.getContract(ROUNDS_MANAGER_ID));
    }

    function bondingManager() internal view returns (IBondingManager) {
        return IBondingManager(controller.getContract(BONDING_MANAGER_ID));
    }
}
